"""Pure computations of the observatory (domain.md §5): pandas in, pandas or numbers out,
no Django import. The Django side (observatoire/frames.py) loads the frames; the pages,
the commune pages, the map and the open data call these functions.

Modules: `demand` (Q1 threshold, active demand, pressure, waiting time), `offer` (stock of
social dwellings), `balance` (share of Q1 households among attributions), `segregation`
(dissimilarity and Theil indices between QPV and the rest of each commune).
"""
