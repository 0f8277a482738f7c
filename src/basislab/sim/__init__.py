"""Stock-flow-consistent JAX simulator of the basis-trade margin spiral."""
