"""The ``%%walkthrough`` cell magic: run a cell recorded, then step through it.

In a notebook::

    %load_ext gradlab

    %%walkthrough --direction TB --predict
    a = gradlab.tensor(2.0, requires_grad=True)
    c = a * 3
    c.backward()

The cell runs in the notebook's namespace, so ``a`` and ``c`` stay defined afterwards and
name the tensors in the stepper. An error inside the cell becomes the stepper's last step,
and is then reported as usual. ``--predict`` starts the stepper in predict mode (each
gradient hidden until the learner types it or reveals it); ``--show a c`` shows the data
and grad of ``a`` and ``c`` only (the other tensors' values read "?").
"""

from __future__ import annotations

import ast
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

import gradlab

_RECORDING = "_gradlab_walkthrough_recording"  # bound by the cell's `with ... as`, then removed


@magics_class
class WalkthroughMagics(Magics):
    """The magics ``%load_ext gradlab`` adds."""

    @magic_arguments()
    @argument(
        "--predict",
        action="store_true",
        help="start in predict mode: each gradient is hidden until you type it or reveal it",
    )
    @argument(
        "--show",
        nargs="+",
        metavar="NAMES",
        help="show the values of these tensors only (names, by spaces or commas); "
        "the others' data and grad show as ?",
    )
    @argument(
        "--direction",
        default="LR",
        choices=["LR", "TB"],
        help="lay the graph out left to right (LR, the default) or top to bottom (TB)",
    )
    @cell_magic
    def walkthrough(self, line: str, cell: str) -> None:
        """Run the cell recorded with gradlab.record(), then show the stepper for it."""
        __tracebackhide__ = True  # noqa: F841  (IPython hides this frame in tracebacks)
        options = parse_argstring(self.walkthrough, line)
        namespace = self.shell.user_ns
        try:
            exec(self._recorded(cell), namespace)
        finally:  # also after an error in the cell: it is the last step, then it propagates
            recording = namespace.pop(_RECORDING, None)
            if recording is not None and len(recording):
                shown = {}
                if options.show is not None:
                    shown["show"] = [n for names in options.show for n in names.split(",") if n]
                try:
                    walkthrough = gradlab.Walkthrough(
                        recording, direction=options.direction, **shown
                    )
                except ValueError as error:  # a name --show gave is no tensor of the cell
                    raise UsageError(str(error)) from None
                if options.predict:
                    display(gradlab.widgets.Stepper(walkthrough, predict=True))
                else:
                    display(walkthrough)
            elif recording is not None:
                print("Nothing to step through: the cell made no tensors.")

    def _recorded(self, cell: str) -> Any:
        """The cell compiled inside ``with gradlab.record() as <_RECORDING>:``, its line
        numbers and file name those of the cell itself (so the steps show its lines)."""
        source = self.shell.transform_cell(cell)
        filename = self.shell.compile.cache(source, self.shell.execution_count)
        body = ast.parse(source, filename).body or [ast.Pass()]
        record = ast.parse("__import__('gradlab').record()", mode="eval").body
        block = ast.With(items=[ast.withitem(record, ast.Name(_RECORDING, ast.Store()))], body=body)
        module = ast.Module(body=[block], type_ignores=[])
        ast.fix_missing_locations(ast.copy_location(block, body[0]))
        return compile(module, filename, "exec")


def load_ipython_extension(shell: Any) -> None:
    """Called by ``%load_ext gradlab``: adds ``%%walkthrough``."""
    shell.register_magics(WalkthroughMagics)
