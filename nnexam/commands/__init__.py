"""One module per `nnexam` subcommand; each defines a click command named `command`."""
