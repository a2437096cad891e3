"""The model tier: what a model is (summary types), its files (formats and safety checks, GraphDefs),
loading it into Keras, the registry of models and revisions, ``keras.applications`` models, and the one
activation extractor every capability uses. Imports only the leaves and the data-set store."""
