"""The library scan, one module per step: walk → identify → probe (+ nfo, images) → register.

``scanner.Scanner`` wires the steps together; ``main.handle`` runs it for each
``io.yaffw.library.scan.requested`` event.
"""
