// config/: placeholder translation unit until the config subsystem lands.
