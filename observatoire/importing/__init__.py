"""Import of the observatory's files, with the guarantees of the attributions import: the
whole file is checked first, then written all or nothing; every error in French with its line
(header = line 1), column and value; importing a file again changes nothing; big files go
through Celery tasks with a progress bar; the uploaded file is deleted once the job ends.

- `base`: what the three kinds share (their layouts, the plan, the errors, writing by batch);
- `demandes`, `rpls`, `qpv`: each kind's check, plan and commit;
- `jobs`: the `ObservatoireImport` life cycle shared by the web pages, the tasks, the command
  and the demo.

The reading of CSV/XLSX files is the platform's (`cil.tabular`), the values are read by the
`attributions` v1 parsers, the errors are logged by its `ErrorLog`.
"""
