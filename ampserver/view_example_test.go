package ampserver

import "testing"

func TestViewsExampleConfigLoads(t *testing.T) {
	cfg, err := LoadConfig("../examples/views/amps-config.xml")
	noErr(t, err)
	require(t, len(cfg.Views) == 2 && len(cfg.SOW) == 1, "%+v", cfg)
	require(t, len(cfg.Warnings) == 0, "warnings: %v", cfg.Warnings)
	require(t, len(cfg.SOW[0].Preprocessing) == 1 && len(cfg.SOW[0].Enrichment) == 2, "%+v", cfg.SOW[0])
}
