// Package trigger makes cloudless serverless: functions deployed once from
// a cloudless.yaml manifest run whenever something happens — an HTTP
// request on the gateway (WAGI, CGI 1.1), a cron schedule, a new file in a
// watched directory, a message on a gossipsub topic — each invocation a job
// on the market (or on the daemon's own executor with local: true), paid per
// use, with nothing running in between.
package trigger
