// A program as a user of the Go module writes it, outside the repository: tests/go-consumer/run.sh
// copies it into a module of its own in a temporary folder and builds it against an installed
// prefix through pkg-config.
//
//	consumer ENDPOINT WANT_TASKS
//
// It lists every task the emulator at ENDPOINT holds, a page of 100 at a time, and prints the
// library's version, the header's, the number of tasks and pages, and each page's request id.
// It exits 1 unless it saw WANT_TASKS tasks and a request id on every page.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	storetasks "github.com/libstoretasks/libstoretasks/bindings/go"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: consumer ENDPOINT WANT_TASKS")
		os.Exit(2)
	}
	want, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c, err := storetasks.NewClient(storetasks.Config{
		Region:          "us-east-1",
		EndpointURL:     os.Args[1],
		AccessKeyID:     "AKIASTORETASKSLOCAL1",
		SecretAccessKey: "storetasks-local-secret-key-0000000000000",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	fmt.Printf("library %s header %s\n", storetasks.Version(), storetasks.HeaderVersion)
	tasks, pages, ok := 0, 0, true
	for page, err := range c.Pages(context.Background(), storetasks.Query{MaxResults: 100}) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pages++
		tasks += len(page.Tasks)
		fmt.Printf("page %d: %d tasks, request id %s\n", pages, len(page.Tasks), page.RequestID)
		ok = ok && page.RequestID != ""
	}
	fmt.Printf("tasks %d pages %d\n", tasks, pages)
	if tasks != want || !ok {
		fmt.Fprintf(os.Stderr, "want %d tasks and a request id on every page\n", want)
		os.Exit(1)
	}
}
