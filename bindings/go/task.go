package storetasks

/*
#include "storetasks.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// TaskState is a store task's state as EC2 names it. A state this package does not know keeps
// the text EC2 sent; "" means EC2 sent none.
type TaskState string

// The states EC2 documents.
const (
	StateInProgress TaskState = "InProgress"
	StateCompleted  TaskState = "Completed"
	StateFailed     TaskState = "Failed"
)

// Known reports whether s is one of the documented states.
func (s TaskState) Known() bool {
	return s == StateInProgress || s == StateCompleted || s == StateFailed
}

// Task is one store task, a plain Go value that owns its strings.
//
// A member EC2 left out of its answer is the zero value: "" for the strings and State, the zero
// time.Time for TaskStartTime (test with IsZero). ProgressPercentage has HasProgressPercentage
// beside it, since 0 is a meaningful progress. (EC2 never sends an empty string for these
// members, so "" and absent mean the same.)
type Task struct {
	// AmiID is the AMI's id, "ami-...".
	AmiID string
	// TaskStartTime is when the task started, with millisecond precision, in UTC.
	TaskStartTime time.Time
	// Bucket is the S3 bucket the AMI is stored in.
	Bucket string
	// S3ObjectKey is the key of the stored object.
	S3ObjectKey string
	// ProgressPercentage is the progress from 0 to 100, valid when HasProgressPercentage.
	ProgressPercentage    int32
	HasProgressPercentage bool
	// State is the task's state.
	State TaskState
	// FailureReason says why the task failed.
	FailureReason string
}

// Page is the result of one call: tasks newest first, and the token that resumes the listing
// after them ("" when there is nothing more).
type Page struct {
	Tasks     []Task
	NextToken string
	// Truncated is true when Collect's maxTasks cut tasks out that no NextToken can bring back:
	// the query named image ids (EC2 answers them in one reply, without a token), or the service
	// sent more tasks than MaxResults asked for. NextToken is then "". Only Collect with a cap
	// can set it; a cap that cuts a listing at a point a token can resume gives a NextToken
	// instead.
	Truncated bool
	// RequestID is the request id of the reply the page came from, what C's
	// storetasks_task_list_request_id and Python's ResponseMetadata["RequestId"] give: each page
	// of Pages has its own; a Describe split into batches of image ids carries one of theirs,
	// Collect the last reply's. It is "" only when the service sent none.
	RequestID string
}

// copyList copies a C task list into a Page. The list stays owned by the caller.
func copyList(list *C.storetasks_task_list) Page {
	var p Page
	p.NextToken = goStringOrEmpty(C.storetasks_task_list_next_token(list))
	p.Truncated = bool(C.storetasks_task_list_truncated(list))
	p.RequestID = goStringOrEmpty(C.storetasks_task_list_request_id(list))
	n := int(C.storetasks_task_list_len(list))
	if n == 0 {
		return p
	}
	views := unsafe.Slice(C.storetasks_task_list_tasks(list), n)
	p.Tasks = make([]Task, n)
	for i := range views {
		v := &views[i]
		t := &p.Tasks[i]
		t.AmiID = goStringOrEmpty(v.ami_id)
		t.Bucket = goStringOrEmpty(v.bucket)
		t.S3ObjectKey = goStringOrEmpty(v.s3_object_key)
		t.FailureReason = goStringOrEmpty(v.failure_reason)
		switch v.state {
		case C.STORETASKS_TASK_STATE_IN_PROGRESS:
			t.State = StateInProgress
		case C.STORETASKS_TASK_STATE_COMPLETED:
			t.State = StateCompleted
		case C.STORETASKS_TASK_STATE_FAILED:
			t.State = StateFailed
		default:
			t.State = TaskState(goStringOrEmpty(v.state_raw))
		}
		if v.has_task_start_time {
			t.TaskStartTime = time.UnixMilli(int64(v.task_start_time_ms)).UTC()
		}
		if v.has_progress_percentage {
			t.ProgressPercentage = int32(v.progress_percentage)
			t.HasProgressPercentage = true
		}
	}
	return p
}
