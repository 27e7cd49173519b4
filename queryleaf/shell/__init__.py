"""The `queryleaf` command line: `cli` parses arguments and runs scripts, `render` turns
results into tables, CSV, JSON and NDJSON. Nothing is imported here, so
`python -m queryleaf.shell.cli` runs the module cleanly."""
