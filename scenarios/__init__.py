"""privy's scenarios layer: the parametric families, their scripted reference policies, the Sotopia importer,
and the importers of dialogues no model wrote (``importers/``: transcripts, Deal or No Deal).

Beside the code, this folder holds scenario files: hand-written demos (``*.yaml``),
generated examples (``examples/``) and benchmark suites (``suites/``).
"""
