"""String selectors from several threads at once (tools run in worker threads).

CadQuery's selector grammar is one module-level pyparsing object: without the lock in
`script_helpers.parse_selector`, four threads selecting at once fail hundreds of times.
"""

from __future__ import annotations

import threading

import cadquery as cq

from solidtype_jupyter.cad.script_helpers import select


def test_selectors_parse_correctly_from_four_threads_at_once() -> None:
    box = cq.Workplane().box(10, 20, 30)
    failures: list[str] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        for _ in range(150):
            try:
                top = select(box, "faces", ">Z")
                vertical = select(box, "edges", "|Z")
                sides = select(box, "faces", "<X or >Y")
            except Exception as exc:  # collected: the test reports every failure
                failures.append(repr(exc))
                continue
            if (len(top), len(vertical), len(sides)) != (1, 4, 2):
                failures.append(f"wrong selection: {len(top)}, {len(vertical)}, {len(sides)}")
            elif top[0].Center().z != 15:
                failures.append(f"wrong top face at z={top[0].Center().z}")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, f"{len(failures)} failures, e.g. {failures[:3]}"
