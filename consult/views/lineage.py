"""Clause history, lineage review and correction, and the printable redline."""
from flask import Blueprint

bp = Blueprint("lineage", __name__, url_prefix="/documents")
