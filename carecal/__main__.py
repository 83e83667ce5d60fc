from carecal.cli.main import run

run()
