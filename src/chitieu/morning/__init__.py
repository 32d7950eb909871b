"""The morning after: what a night did, for the operator (the night report page) and for
each department whose files were rejected (notices). Both render `chitieu.night.Night`."""
