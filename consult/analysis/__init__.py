"""Pure analysis of comments: campaigns (near-duplicate letters), themes and extractive summaries.

Nothing here touches Flask or the database: plain values in, plain values out (services/analysis.py stores them).
"""
