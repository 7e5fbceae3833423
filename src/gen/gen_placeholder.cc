// gen/: placeholder translation unit until the generator lands.
