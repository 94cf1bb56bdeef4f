from handcalc.cli import main

main()
