package wire

import (
	"encoding/json"

	"gopkg.in/yaml.v3"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
func yamlMarshal(v any) ([]byte, error) { return yaml.Marshal(v) }
