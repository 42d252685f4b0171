package storetasks

/*
#include "storetasks.h"
*/
import "C"

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CLIJSON renders the page as the AWS CLI prints `aws ec2 describe-store-image-tasks --output
// json`: four-space indent, members in the service model's order, absent members left out,
// NextToken only when there is one, and a final newline. The output is byte for byte what
// libstoretasks' storetasks_task_list_to_json gives for the same tasks.
func (p Page) CLIJSON() []byte {
	b := make([]byte, 0, 64+256*len(p.Tasks))
	b = append(b, '{')
	b = appendTaskResults(b, p.Tasks, "    ")
	if p.NextToken != "" {
		b = append(b, ",\n    \"NextToken\": "...)
		b = appendJSONString(b, p.NextToken)
	}
	return append(b, "\n}\n"...)
}

// appendTaskResults writes the member "StoreImageTaskResults", its name on a new line indented
// by indent, the tasks in the AWS CLI's shape: the one writer of the tasks for CLIJSON and
// FleetResult.JSON.
func appendTaskResults(b []byte, tasks []Task, indent string) []byte {
	taskIndent := indent + "    "
	b = append(b, '\n')
	b = append(b, indent...)
	b = append(b, "\"StoreImageTaskResults\": ["...)
	for i := range tasks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = append(b, taskIndent...)
		b = append(b, '{')
		b = appendTaskMembers(b, &tasks[i], taskIndent)
		b = append(b, '}')
	}
	if len(tasks) > 0 {
		b = append(b, '\n')
		b = append(b, indent...)
	}
	return append(b, ']')
}

// appendTaskMembers writes the members of a task object whose brace is indented by indent.
func appendTaskMembers(b []byte, t *Task, indent string) []byte {
	n := 0
	member := func(name string) {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, '\n')
		b = append(b, indent...)
		b = append(b, "    \""...)
		b = append(b, name...)
		b = append(b, "\": "...)
	}
	if t.AmiID != "" {
		member("AmiId")
		b = appendJSONString(b, t.AmiID)
	}
	if !t.TaskStartTime.IsZero() {
		member("TaskStartTime")
		b = append(b, '"')
		b = t.TaskStartTime.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, '"')
	}
	if t.Bucket != "" {
		member("Bucket")
		b = appendJSONString(b, t.Bucket)
	}
	if t.S3ObjectKey != "" {
		member("S3objectKey")
		b = appendJSONString(b, t.S3ObjectKey)
	}
	if t.HasProgressPercentage {
		member("ProgressPercentage")
		b = strconv.AppendInt(b, int64(t.ProgressPercentage), 10)
	}
	if t.State != "" {
		member("StoreTaskState")
		b = appendJSONString(b, string(t.State))
	}
	if t.FailureReason != "" {
		member("StoreTaskFailureReason")
		b = appendJSONString(b, t.FailureReason)
	}
	if n > 0 {
		b = append(b, '\n')
		b = append(b, indent...)
	}
	return b
}

// shortEscapes gives, for each byte JSON escapes with a letter, that letter (0 for the others,
// which appendJSONString escapes as \u00XX).
var shortEscapes = [256]byte{'"': '"', '\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't'}

// appendJSONString quotes s as the library (serde_json) does: only the quote, the backslash and
// control characters are escaped; everything else, non-ASCII text included, is written as is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	if !utf8.ValidString(s) {
		// Go strings may hold invalid UTF-8, JSON text may not (the library's never do).
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		if e := shortEscapes[c]; e != 0 {
			b = append(b, '\\', e)
		} else {
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// libraryJSON lists q like Collect and returns the list both copied and rendered by
// storetasks_task_list_to_json, so the tests can compare CLIJSON with the library's own.
func (c *Client) libraryJSON(ctx context.Context, q Query, maxTasks int) (Page, []byte, error) {
	cq, err := newCQuery(&q)
	if err != nil {
		return Page{}, nil, err
	}
	defer C.storetasks_query_free(cq)
	var page Page
	var out []byte
	err = c.do(ctx, func(ptr *C.storetasks_client, k *call) error {
		var list *C.storetasks_task_list
		var cerr *C.storetasks_error
		st := C.storetasks_client_describe_all(ptr, cq, C.size_t(maxTasks), k.tok, &list, &cerr)
		if st != C.STORETASKS_STATUS_OK {
			return takeError(st, cerr)
		}
		defer C.storetasks_task_list_free(list)
		page = copyList(list)
		var err error
		out, err = libraryText(func(text **C.char, cerr **C.storetasks_error) C.enum_storetasks_status {
			return C.storetasks_task_list_to_json(list, text, cerr)
		})
		return err
	})
	return page, out, err
}

// libraryText copies out the string one of the library's renderings (such as
// storetasks_task_list_to_json) gives through text, and frees it; or returns the rendering's
// error.
func libraryText(render func(text **C.char, cerr **C.storetasks_error) C.enum_storetasks_status) ([]byte, error) {
	var text *C.char
	var cerr *C.storetasks_error
	if st := render(&text, &cerr); st != C.STORETASKS_STATUS_OK {
		return nil, takeError(st, cerr)
	}
	defer C.storetasks_string_free(text)
	return []byte(C.GoString(text)), nil
}
