"""How files and folders are named: path → film, episode or extra (pure, no I/O).

Shared by the scan function (``yaffw_scan.plan``) and the ``yaffw identify`` command; one rule per
module: :mod:`.text` (clean names, years), :mod:`.seasons`, :mod:`.episodes`, :mod:`.movies`,
:mod:`.extras`, :mod:`.parts`, :mod:`.versions`, and :mod:`.identify` putting them together.
"""

from yaffw.naming.identify import KINDS, NAMING_VERSION, Guess, guess_root, identify
from yaffw.naming.seasons import season_number
from yaffw.naming.text import clean, sort_name, split_year

__all__ = [
    "KINDS",
    "NAMING_VERSION",
    "Guess",
    "clean",
    "guess_root",
    "identify",
    "season_number",
    "sort_name",
    "split_year",
]
