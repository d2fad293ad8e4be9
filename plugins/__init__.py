"""recframe's built-in plugins, registered through the ``recframe`` entry points like any
third-party package. Installed as the package ``recframe_plugins``."""
