// amtime answers, with Alertmanager's own configuration loader and time-interval code, whether
// a named time interval of an alertmanager.yml contains each given instant:
//
//	amtime alertmanager.yml outside-office-hours 2027-03-26T10:00:00+01:00 ...
//
// prints one "<instant> true|false" line per instant. tests/unit/test_holidays.py uses it to check
// that tickets are muted on Swedish public holidays; amtool cannot evaluate time intervals.
// The Alertmanager version is Debian's (0.25.0), the one casewatch runs.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/prometheus/alertmanager/config"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: amtime CONFIG INTERVAL RFC3339...")
		os.Exit(2)
	}
	cfg, err := config.LoadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	found := false
	for _, named := range cfg.TimeIntervals {
		if named.Name != os.Args[2] {
			continue
		}
		found = true
		for _, arg := range os.Args[3:] {
			t, err := time.Parse(time.RFC3339, arg)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			contained := false
			for _, interval := range named.TimeIntervals {
				contained = contained || interval.ContainsTime(t)
			}
			fmt.Println(arg, contained)
		}
	}
	if !found {
		fmt.Fprintln(os.Stderr, "no time interval named", os.Args[2])
		os.Exit(1)
	}
}
