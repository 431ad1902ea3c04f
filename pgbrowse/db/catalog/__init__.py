"""The catalog and its readers: relations and their columns, the list of relations, keys
both ways, the structure, column profiles, the backend's own figures, completion.
"""
