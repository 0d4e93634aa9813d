from veclift.cli import main

main()
