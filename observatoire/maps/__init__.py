"""The territory map: commune boundaries from a GeoJSON file, drawn as SVG on the server.

- `geojson`: validation of an uploaded FeatureCollection (standard library only, no GDAL);
- `projection`: lon/lat → SVG coordinates fitted to a viewBox, simplification, path data;
- `classes`: classes of values (quantiles or fixed breaks) and the colour-blind-safe palette;
- `svg`: the choropleth map (one link and one path per commune, legend, tooltips).

No Django here: the service (`observatoire.services_map`) and the views call these.
"""
