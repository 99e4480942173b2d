"""Real modules from ../shared/corpus: parse, print, XLA's parser accepts the print, fixpoint.

The slice in tests/conftest.py runs always; the full sweep is `pytest -m slow`.
"""

from __future__ import annotations

import pytest
from jaxlib import _hlo

from hloenv import HloParseError, load_hlo, parse_hlo
from tests.conftest import corpus_params

#: Corpus files whose constants were elided when they were dumped (their values are lost).
ELIDED = {"module_0698.jit__lambda_.256.before_optimizations.txt", "module_0101.jit_accuracy.49.before_optimizations.txt"}


@pytest.mark.parametrize("path", corpus_params())
def test_corpus_module_round_trips(path):
    if path.name in ELIDED:
        with pytest.raises(HloParseError, match="elided") as err:
            load_hlo(path)
        assert err.value.line > 0
    module = load_hlo(path, allow_elided=path.name in ELIDED)
    assert module.instruction_count > 0
    text = module.to_text()
    again = parse_hlo(text, allow_elided=True)
    assert again.to_text() == text
    assert again.fingerprint() == module.fingerprint()
    assert again.instruction_count == module.instruction_count
    _hlo.hlo_module_from_text(text)  # XLA's own parser accepts what we print
