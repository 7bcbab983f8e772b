"""Run records and their history: what ``rigcheck bench`` measured, saved and read back.

Plain dataclasses and JSON files, no torch: ``estimate`` (bench-refined figures), the doctor, the
report and the fleet read saved runs without importing the measuring side (:mod:`rigcheck.bench`,
the one owner of torch), and the performance model's refinement stays pure.
"""
