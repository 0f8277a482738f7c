from basislab.app.cli import main

main()
