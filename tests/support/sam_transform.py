"""Print template.yaml as CloudFormation sees it after both transforms, as JSON.

Runs under the SAM CLI's own virtualenv (``.venv-sam/bin/python``), which has the SAM translator
and the CLI's AWS::LanguageExtensions expansion; the project's venv has neither. Offline: local
code paths are replaced by placeholder S3 URIs and no managed policy is looked up, as
``sam validate`` does.

    .venv-sam/bin/python tests/support/sam_transform.py template.yaml '{"EnableJwtAuthorizer": "true"}'

Parameters not given take their Default, or else a placeholder (the first allowed value, or "x").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
from samcli.lib.cfn_language_extensions.sam_integration import expand_language_extensions
from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import IntrinsicsSymbolTable
from samcli.yamlhelper import yaml_parse
from samtranslator.parser import parser
from samtranslator.translator.translator import Translator

_CODE = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def _parameters(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        if name in given:
            values[name] = given[name]
        elif "Default" in spec:
            values[name] = spec["Default"]
        else:
            values[name] = spec.get("AllowedValues", ["x"])[0]
    return values


def transform(path: Path, given: dict[str, str]) -> dict[str, Any]:
    template = yaml_parse(path.read_text(encoding="utf-8"))
    parameters = _parameters(template, given)
    with_pseudo = {**IntrinsicsSymbolTable.DEFAULT_PSEUDO_PARAM_VALUES, **parameters}
    expanded = expand_language_extensions(template, parameter_values=with_pseudo, enabled=True)
    template = expanded.expanded_template
    for resource in template["Resources"].values():
        if resource.get("Type") in _CODE:
            resource.setdefault("Properties", {})[_CODE[resource["Type"]]] = "s3://placeholder/code.zip"
    translator = Translator(
        managed_policy_map=None,
        sam_parser=parser.Parser(),
        plugins=[],
        boto_session=boto3.session.Session(region_name="us-east-1"),
    )
    translated: dict[str, Any] = translator.translate(
        sam_template=template, parameter_values=parameters, get_managed_policy_map=lambda: {}
    )
    return translated


if __name__ == "__main__":
    print(json.dumps(transform(Path(sys.argv[1]), json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})))
