"""Reading a git repository: opening, objects, refs, trees, the index and packs.

Nothing here knows about rules, matches or findings, and nothing runs `git`.
"""
