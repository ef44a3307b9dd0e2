"""Natural-language understanding: normalization, language detection, intents, FAQ retrieval."""

from bot.nlu.model import NluModel, load_or_train, train_for_shop, train_model

__all__ = ["NluModel", "load_or_train", "train_for_shop", "train_model"]
