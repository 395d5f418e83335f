<%@ Page Language="C#" %>
<script runat="server">
void Page_Load(object s, EventArgs e) {
    // An avatar upload saved under a name the server chooses.
    if (Request.Files.Count > 0) {
        var name = System.Guid.NewGuid().ToString("N") + ".png";
        Request.Files[0].SaveAs(Server.MapPath("~/App_Data/avatars/" + name));
    }
}
</script>
