//! The messages of durabletask-protobuf's `orchestrator_service.proto` that
//! the Durable extension exchanges with a custom handler, written out as
//! prost structs (field names and numbers as in the proto) so that no
//! `protoc` is needed. `google.protobuf.StringValue` is `Option<String>`,
//! as prost maps the wrapper types. Fields this library never reads or
//! writes (tags, trace contexts, the entity history events and actions of
//! the newer entity protocol) are left out: protobuf skips unknown fields
//! when decoding.
#![allow(missing_docs)]

mod entity_id;

pub use entity_id::EntityId;
pub use prost_types::{Duration, Timestamp};

#[derive(Clone, PartialEq, prost::Message)]
pub struct OrchestrationInstance {
    #[prost(string, tag = "1")]
    pub instance_id: String,
    #[prost(message, optional, tag = "2")]
    pub execution_id: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TaskFailureDetails {
    #[prost(string, tag = "1")]
    pub error_type: String,
    #[prost(string, tag = "2")]
    pub error_message: String,
    #[prost(message, optional, tag = "3")]
    pub stack_trace: Option<String>,
    #[prost(message, optional, boxed, tag = "4")]
    pub inner_failure: Option<Box<TaskFailureDetails>>,
    #[prost(bool, tag = "5")]
    pub is_non_retriable: bool,
}

/// `OrchestrationStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum OrchestrationStatus {
    Running = 0,
    Completed = 1,
    ContinuedAsNew = 2,
    Failed = 3,
    Canceled = 4,
    Terminated = 5,
    Pending = 6,
    Suspended = 7,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ParentInstanceInfo {
    #[prost(int32, tag = "1")]
    pub task_scheduled_id: i32,
    #[prost(message, optional, tag = "2")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub version: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub orchestration_instance: Option<OrchestrationInstance>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecutionStartedEvent {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub version: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub input: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub orchestration_instance: Option<OrchestrationInstance>,
    #[prost(message, optional, tag = "5")]
    pub parent_instance: Option<ParentInstanceInfo>,
    #[prost(message, optional, tag = "6")]
    pub scheduled_start_timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecutionCompletedEvent {
    #[prost(enumeration = "OrchestrationStatus", tag = "1")]
    pub orchestration_status: i32,
    #[prost(message, optional, tag = "2")]
    pub result: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub failure_details: Option<TaskFailureDetails>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecutionTerminatedEvent {
    #[prost(message, optional, tag = "1")]
    pub input: Option<String>,
    #[prost(bool, tag = "2")]
    pub recurse: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TaskScheduledEvent {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub version: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub input: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TaskCompletedEvent {
    #[prost(int32, tag = "1")]
    pub task_scheduled_id: i32,
    #[prost(message, optional, tag = "2")]
    pub result: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TaskFailedEvent {
    #[prost(int32, tag = "1")]
    pub task_scheduled_id: i32,
    #[prost(message, optional, tag = "2")]
    pub failure_details: Option<TaskFailureDetails>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SubOrchestrationInstanceCreatedEvent {
    #[prost(string, tag = "1")]
    pub instance_id: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, optional, tag = "3")]
    pub version: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub input: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SubOrchestrationInstanceCompletedEvent {
    #[prost(int32, tag = "1")]
    pub task_scheduled_id: i32,
    #[prost(message, optional, tag = "2")]
    pub result: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SubOrchestrationInstanceFailedEvent {
    #[prost(int32, tag = "1")]
    pub task_scheduled_id: i32,
    #[prost(message, optional, tag = "2")]
    pub failure_details: Option<TaskFailureDetails>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimerCreatedEvent {
    #[prost(message, optional, tag = "1")]
    pub fire_at: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimerFiredEvent {
    #[prost(message, optional, tag = "1")]
    pub fire_at: Option<Timestamp>,
    #[prost(int32, tag = "2")]
    pub timer_id: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OrchestratorStartedEvent {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OrchestratorCompletedEvent {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct EventSentEvent {
    #[prost(string, tag = "1")]
    pub instance_id: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, optional, tag = "3")]
    pub input: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct EventRaisedEvent {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub input: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GenericEvent {
    #[prost(message, optional, tag = "1")]
    pub data: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ContinueAsNewEvent {
    #[prost(message, optional, tag = "1")]
    pub input: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecutionSuspendedEvent {
    #[prost(message, optional, tag = "1")]
    pub input: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecutionResumedEvent {
    #[prost(message, optional, tag = "1")]
    pub input: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HistoryEvent {
    #[prost(int32, tag = "1")]
    pub event_id: i32,
    #[prost(message, optional, tag = "2")]
    pub timestamp: Option<Timestamp>,
    #[prost(
        oneof = "EventType",
        tags = "3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22"
    )]
    pub event_type: Option<EventType>,
}

/// `HistoryEvent.eventType`; the entity and history-state kinds are left
/// out (an executor without entities never sees them).
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum EventType {
    #[prost(message, tag = "3")]
    ExecutionStarted(ExecutionStartedEvent),
    #[prost(message, tag = "4")]
    ExecutionCompleted(ExecutionCompletedEvent),
    #[prost(message, tag = "5")]
    ExecutionTerminated(ExecutionTerminatedEvent),
    #[prost(message, tag = "6")]
    TaskScheduled(TaskScheduledEvent),
    #[prost(message, tag = "7")]
    TaskCompleted(TaskCompletedEvent),
    #[prost(message, tag = "8")]
    TaskFailed(TaskFailedEvent),
    #[prost(message, tag = "9")]
    SubOrchestrationInstanceCreated(SubOrchestrationInstanceCreatedEvent),
    #[prost(message, tag = "10")]
    SubOrchestrationInstanceCompleted(SubOrchestrationInstanceCompletedEvent),
    #[prost(message, tag = "11")]
    SubOrchestrationInstanceFailed(SubOrchestrationInstanceFailedEvent),
    #[prost(message, tag = "12")]
    TimerCreated(TimerCreatedEvent),
    #[prost(message, tag = "13")]
    TimerFired(TimerFiredEvent),
    #[prost(message, tag = "14")]
    OrchestratorStarted(OrchestratorStartedEvent),
    #[prost(message, tag = "15")]
    OrchestratorCompleted(OrchestratorCompletedEvent),
    #[prost(message, tag = "16")]
    EventSent(EventSentEvent),
    #[prost(message, tag = "17")]
    EventRaised(EventRaisedEvent),
    #[prost(message, tag = "18")]
    GenericEvent(GenericEvent),
    #[prost(message, tag = "20")]
    ContinueAsNew(ContinueAsNewEvent),
    #[prost(message, tag = "21")]
    ExecutionSuspended(ExecutionSuspendedEvent),
    #[prost(message, tag = "22")]
    ExecutionResumed(ExecutionResumedEvent),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ScheduleTaskAction {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub version: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub input: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateSubOrchestrationAction {
    #[prost(string, tag = "1")]
    pub instance_id: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, optional, tag = "3")]
    pub version: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub input: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CreateTimerAction {
    #[prost(message, optional, tag = "1")]
    pub fire_at: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SendEventAction {
    #[prost(message, optional, tag = "1")]
    pub instance: Option<OrchestrationInstance>,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, optional, tag = "3")]
    pub data: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CompleteOrchestrationAction {
    #[prost(enumeration = "OrchestrationStatus", tag = "1")]
    pub orchestration_status: i32,
    #[prost(message, optional, tag = "2")]
    pub result: Option<String>,
    #[prost(message, optional, tag = "3")]
    pub details: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub new_version: Option<String>,
    #[prost(message, repeated, tag = "5")]
    pub carryover_events: Vec<HistoryEvent>,
    #[prost(message, optional, tag = "6")]
    pub failure_details: Option<TaskFailureDetails>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OrchestratorAction {
    #[prost(int32, tag = "1")]
    pub id: i32,
    #[prost(oneof = "ActionType", tags = "2, 3, 4, 5, 6")]
    pub action_type: Option<ActionType>,
}

/// `OrchestratorAction.orchestratorActionType`: the five kinds the
/// extension accepts.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ActionType {
    #[prost(message, tag = "2")]
    ScheduleTask(ScheduleTaskAction),
    #[prost(message, tag = "3")]
    CreateSubOrchestration(CreateSubOrchestrationAction),
    #[prost(message, tag = "4")]
    CreateTimer(CreateTimerAction),
    #[prost(message, tag = "5")]
    SendEvent(SendEventAction),
    #[prost(message, tag = "6")]
    CompleteOrchestration(CompleteOrchestrationAction),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OrchestratorRequest {
    #[prost(string, tag = "1")]
    pub instance_id: String,
    #[prost(message, optional, tag = "2")]
    pub execution_id: Option<String>,
    #[prost(message, repeated, tag = "3")]
    pub past_events: Vec<HistoryEvent>,
    #[prost(message, repeated, tag = "4")]
    pub new_events: Vec<HistoryEvent>,
    /// How the orchestration labels its entity requests; absent where the
    /// backend has no entities.
    #[prost(message, optional, tag = "5")]
    pub entity_parameters: Option<OrchestratorEntityParameters>,
}

/// `OrchestratorEntityParameters`: the window within which the entity
/// dispatcher reorders and deduplicates requests (zero where the backend
/// delivers exactly once and in order).
#[derive(Clone, PartialEq, prost::Message)]
pub struct OrchestratorEntityParameters {
    #[prost(message, optional, tag = "1")]
    pub entity_message_reorder_window: Option<Duration>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OrchestratorResponse {
    #[prost(string, tag = "1")]
    pub instance_id: String,
    #[prost(message, repeated, tag = "2")]
    pub actions: Vec<OrchestratorAction>,
    #[prost(message, optional, tag = "3")]
    pub custom_status: Option<String>,
    #[prost(string, tag = "4")]
    pub completion_token: String,
    /// The request came without the orchestration's history (no
    /// `executionStarted`, as in an extended session whose worker lost its
    /// state): the backend sends it again with the full history.
    #[prost(bool, tag = "7")]
    pub requires_history: bool,
}

/// An entity's batch of operations, as the extension sends it to an
/// `entityTrigger` function. `instance_id` is `@<name>@<key>`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntityBatchRequest {
    #[prost(string, tag = "1")]
    pub instance_id: String,
    #[prost(message, optional, tag = "2")]
    pub entity_state: Option<String>,
    #[prost(message, repeated, tag = "3")]
    pub operations: Vec<OperationRequest>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OperationRequest {
    #[prost(string, tag = "1")]
    pub operation: String,
    #[prost(string, tag = "2")]
    pub request_id: String,
    #[prost(message, optional, tag = "3")]
    pub input: Option<String>,
}

/// The entity function's answer: one result per operation run, in order,
/// the messages it sends, and its state afterwards (`None`: no state).
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntityBatchResult {
    #[prost(message, repeated, tag = "1")]
    pub results: Vec<OperationResult>,
    #[prost(message, repeated, tag = "2")]
    pub actions: Vec<OperationAction>,
    #[prost(message, optional, tag = "3")]
    pub entity_state: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub failure_details: Option<TaskFailureDetails>,
    #[prost(string, tag = "5")]
    pub completion_token: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OperationResult {
    #[prost(oneof = "OperationResultType", tags = "1, 2")]
    pub result_type: Option<OperationResultType>,
}

/// `OperationResult.resultType`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum OperationResultType {
    #[prost(message, tag = "1")]
    Success(OperationResultSuccess),
    #[prost(message, tag = "2")]
    Failure(OperationResultFailure),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OperationResultSuccess {
    #[prost(message, optional, tag = "1")]
    pub result: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub start_time_utc: Option<Timestamp>,
    #[prost(message, optional, tag = "3")]
    pub end_time_utc: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OperationResultFailure {
    #[prost(message, optional, tag = "1")]
    pub failure_details: Option<TaskFailureDetails>,
    #[prost(message, optional, tag = "2")]
    pub start_time_utc: Option<Timestamp>,
    #[prost(message, optional, tag = "3")]
    pub end_time_utc: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OperationAction {
    #[prost(int32, tag = "1")]
    pub id: i32,
    #[prost(oneof = "OperationActionType", tags = "2, 3")]
    pub operation_action_type: Option<OperationActionType>,
}

/// `OperationAction.operationActionType`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum OperationActionType {
    #[prost(message, tag = "2")]
    SendSignal(SendSignalAction),
    #[prost(message, tag = "3")]
    StartNewOrchestration(StartNewOrchestrationAction),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SendSignalAction {
    #[prost(string, tag = "1")]
    pub instance_id: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, optional, tag = "3")]
    pub input: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub scheduled_time: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StartNewOrchestrationAction {
    #[prost(string, tag = "1")]
    pub instance_id: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, optional, tag = "3")]
    pub version: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub input: Option<String>,
    #[prost(message, optional, tag = "5")]
    pub scheduled_time: Option<Timestamp>,
}
