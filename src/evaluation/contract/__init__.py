"""The data contract for registry extracts: code lists, extract specifications and schemas."""

from evaluation.contract.extracts import EXTRACTS, Column, Extract

__all__ = ["EXTRACTS", "Column", "Extract"]
