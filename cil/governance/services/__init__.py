"""Every change of state of the conference's sessions, one module per part. One
transaction each, one audit entry each; e-mails and PDFs are queued after the commit.
Views, tasks and commands call these; they never `.save()` a domain object themselves."""
