from kelpie.cli.main import app

app()
