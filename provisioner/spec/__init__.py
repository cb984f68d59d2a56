"""Spec loading and checking: find and read spec files (`files`), parse YAML keeping marks
(`provisioner.disk.yamlnodes`), check each document against the schema (`schema`: one file,
a branch per `kind:`) and the documented rules (`rules`, `sms`; run state and schedules:
`runstate`), turn it into the API body (`analysis`), and assemble the desired campaigns and
contact lists (`resources`) with every located problem (`load`, which also judges schedules
against the clock: never cached); then check the contact lists campaigns name
(`references`). Pure but for reading files and the clock."""
