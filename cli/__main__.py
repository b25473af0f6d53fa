from bellwether.cli.app import main

main()
