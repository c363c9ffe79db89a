"""What a template check finds, and the errors rendering raises (defined in `arrears.errors`).

ArrearsError
├── MessageRefused                 a rendered message (or its template) breaks a rule
└── UnknownTemplate (a KeyError)   no template of that name, channel and locale
"""

from __future__ import annotations

from ..errors import MessageRefused, TemplateProblem, UnknownTemplate

__all__ = ["MessageRefused", "TemplateProblem", "UnknownTemplate"]
