"""Open data of the observatory: the catalogue of publishable aggregates, their statistical
secrecy, the secretariat's publication choices and the public files."""
