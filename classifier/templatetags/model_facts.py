"""{% model_knows %}: one or two plain sentences on what the loaded model knows (home, result
and model pages), from its metadata."""
from django import template

from classifier import services

register = template.Library()


@register.inclusion_tag("classifier/_model_knows.html")
def model_knows():
    """Training data, accuracy on unseen actors and where it does worse (nothing if the model
    cannot be loaded: the page says so elsewhere)."""
    return {"facts": services.model_facts()}
