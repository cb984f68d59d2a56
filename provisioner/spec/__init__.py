"""Spec loading and checking: find and read spec files (`files`), parse YAML keeping marks
(`provisioner.disk.yamlnodes`), check each document against the schema (`schema`) and the documented rules
(`rules`, `sms`), turn it into the API body (`analysis`), and assemble the desired campaigns
with every located problem (`load`). Pure but for reading files."""
