"""Content-addressed result store. No streamlit, no TensorFlow.

store = ResultStore.open_default()
key = make_key(revision=rev, analysis="featurevis", params={...}, code_version="1")
value = store.get_or_compute(key, compute, codec=JSON)
"""

from cache.codecs import JSON, NPZ, PARQUET, PNG, Codec
from cache.keys import make_key
from cache.store import CacheStats, ResultStore

__all__ = ["JSON", "NPZ", "PARQUET", "PNG", "CacheStats", "Codec", "ResultStore", "make_key"]
