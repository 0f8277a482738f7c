"""HTML reports with Plotly charts."""
