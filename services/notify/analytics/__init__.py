"""Programme analytics (CONTRACT §12): the Desa Binaan registry, and where the signs concentrate."""
