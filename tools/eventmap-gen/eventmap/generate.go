package eventmap

// Generate returns the mapping file for cfg: gofmt'd Go source, the same
// bytes for the same input. Nothing is written. Errors name the folder,
// file, line, type and field concerned.
func Generate(cfg Config) ([]byte, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	return generate(r)
}

func generate(r *resolved) ([]byte, error) {
	d, err := discover(r)
	if err != nil {
		return nil, err
	}
	return render(d, r.pkg)
}
