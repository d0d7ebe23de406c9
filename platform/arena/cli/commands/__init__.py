"""One module per group of commands; each command is ``run_<name>(args) -> exit code``."""
