// Reports: see README.md (placeholder until the module lands)
