"""Internals of the synthetic marketplace generator; the entry point is :mod:`loaders.generator`.

Modules, in the order data flows through them:

``vocabulary``  names, streets, cities, card ranges, network prefixes: the raw material;
``keys``        integer keys for every identifier and the seeded bijections behind them;
``sampling``    heavy-tailed counts, popularity draws, times inside the marketplace's life;
``text``        vectorised renderers turning keys into the text an export holds;
``tables``      the exported tables' columns and rows accumulated as numpy columns;
``world``       the accounts' skeleton, shared pools and the planted rings' members;
``rings``       what each typology's members do;
``background``  one chunk of ordinary accounts' activity.
"""
