"""The book's chapters, one back-end module each: what a chapter computes, draws and records.

A notebook holds the narrative and calls these (one or two calls a cell); the library (:mod:`rbgia`)
never imports them, and they never import the orchestration (:mod:`rbgia.book`).

========================  ===================================================================
chapter (notebook)        module
========================  ===================================================================
01_data                   :mod:`~rbgia.chapters.overview` (the experiments, their splits)
02_residualbind           :mod:`~rbgia.chapters.training` (one training run and its record; the
                          models other chapters load)
03_benchmark              :mod:`~rbgia.chapters.performance` (Fig 1: tables, paired tests, goals)
04_ism                    :mod:`~rbgia.chapters.ism` (Fig 2a, 3a)
05_gia                    :mod:`~rbgia.chapters.battery` (the GIA battery of one experiment)
06_structure_vts1         :mod:`~rbgia.chapters.vts1` (Fig 3: the hairpin test per model)
07_gc_bias                :mod:`~rbgia.chapters.gc` (Fig 4)
08_across_experiments     :mod:`~rbgia.chapters.across` (Fig 2g, 4b, Supp. Table 1)
10_ground_truth           :mod:`~rbgia.chapters.validation` (model against the planted truth)
========================  ===================================================================

Shared by the chapters: :mod:`~rbgia.chapters.results` (where records live, ``write_results``),
:mod:`~rbgia.chapters.records` (the chapters' record kinds and ``read_record``) and
:mod:`~rbgia.chapters.report` (tables, captions, numbers as the page shows them).
"""
