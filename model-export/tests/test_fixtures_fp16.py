"""The committed float16 fixture (processor/src/test/resources/models/tiny-blip2-opt-f16) is what
fixtures_fp16 generates: same weights, same Python ONNX Runtime tokens."""

import json
import shutil

from conftest import COMMITTED_BUNDLE, RESOURCES

from shoplens_export import fixtures_fp16

COMMITTED_F16 = RESOURCES / "models" / fixtures_fp16.BUNDLE_NAME


def test_should_regenerate_the_committed_float16_fixture(tmp_path):
    # Given the committed float32 fixture (prompts, pixel values) in a fresh resources directory
    (tmp_path / "models").mkdir()
    shutil.copytree(COMMITTED_BUNDLE, tmp_path / "models" / COMMITTED_BUNDLE.name)

    # When the float16 fixture is generated there
    reference = fixtures_fp16.generate(tmp_path)

    # Then bundle files and reference tokens are the committed ones
    committed = json.loads((COMMITTED_F16 / "reference.json").read_text())
    manifest = json.loads((COMMITTED_F16 / "manifest.json").read_text())
    assert reference["model_version"] == manifest["model_version"] == committed["model_version"]
    assert reference["cases"] == committed["cases"]
    assert manifest["dtype"] == "float16"
    # And float16 greedy agrees with float32 on the rows recorded (the Java test asserts this count)
    assert reference["greedy_rows_agreeing_with_float32"] == committed["greedy_rows_agreeing_with_float32"]
