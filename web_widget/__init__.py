"""The website chat widget: ``widget.js``, its assets and the demo shop page."""
